// The libvirt source's pure parts: domain XML to disks, files placed on mounts by the mount
// table, and guests matched to monitored paths with their I/O errors counted once.
#include <libvirt/libvirt.h>
#include <sys/sysmacros.h>

#include <gtest/gtest.h>

#include "core/path_monitor.h"
#include "sources/libvirt/libvirt_disk_location.h"
#include "sources/libvirt/libvirt_domain_xml.h"
#include "sources/libvirt/libvirt_path_vms.h"

namespace iohealth {
namespace {

constexpr const char* kDomain = R"(
<domain type='kvm' id='3'>
  <name>i-2-87-VM</name>
  <uuid>6b1d3c1e-0000-4000-8000-000000000087</uuid>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/mnt/pool1/vol-87.qcow2' index='2'/>
      <backingStore type='file' index='3'>
        <format type='qcow2'/>
        <source file='/mnt/pool1/template-5.qcow2'/>
        <backingStore/>
      </backingStore>
      <target dev='vda' bus='virtio'/>
      <alias name='virtio-disk0'/>
    </disk>
    <disk type='block' device='disk'>
      <source dev='/dev/drbd1000'/>
      <backingStore/>
      <target dev='vdb' bus='virtio'/>
      <alias name='virtio-disk1'/>
    </disk>
    <disk type='network' device='disk'>
      <source protocol='rbd' name='pool/image'/>
      <target dev='vdc' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'>
      <target dev='hdc' bus='ide'/>
    </disk>
  </devices>
</domain>)";

TEST(LibvirtDomainXml, ReadsEveryDiskWithItsBackingChain) {
    const DomainXml d = parse_domain_xml(kDomain);
    EXPECT_EQ(d.name, "i-2-87-VM");
    EXPECT_EQ(d.uuid, "6b1d3c1e-0000-4000-8000-000000000087");
    ASSERT_EQ(d.disks.size(), 4u);

    EXPECT_EQ(d.disks[0].target, "vda");
    EXPECT_EQ(d.disks[0].alias, "virtio-disk0");
    ASSERT_EQ(d.disks[0].images.size(), 2u);
    EXPECT_EQ(d.disks[0].images[0].path, "/mnt/pool1/vol-87.qcow2");
    EXPECT_EQ(d.disks[0].images[1].path, "/mnt/pool1/template-5.qcow2");
    EXPECT_EQ(d.disks[0].images[1].type, "file");

    ASSERT_EQ(d.disks[1].images.size(), 1u);  // an empty <backingStore/> ends the chain
    EXPECT_EQ(d.disks[1].images[0].type, "block");
    EXPECT_EQ(d.disks[1].images[0].path, "/dev/drbd1000");

    EXPECT_EQ(d.disks[2].images[0].path, "rbd:pool/image");
    EXPECT_EQ(d.disks[3].device, "cdrom");
    EXPECT_TRUE(d.disks[3].images.empty());  // no medium: depends on nothing
}

TEST(LibvirtDomainXml, RejectsWhatIsNotADomain) {
    EXPECT_THROW(parse_domain_xml("<domain><name>x</name>"), std::runtime_error);
    EXPECT_THROW(parse_domain_xml("<network><name>x</name></network>"), std::runtime_error);
    EXPECT_THROW(parse_domain_xml("<domain></domain>"), std::runtime_error);
}

MountTable mounts() {
    return MountTable({{"/", "/dev/vda", "ext4", makedev(254, 0)},
                       {"/mnt/pool1", "10.0.0.5:/export", "nfs4", makedev(0, 53)},
                       {"/mnt/pool10", "/dev/sdb1", "ext4", makedev(8, 17)},
                       {"/mnt/pool1", "10.0.0.6:/export", "nfs4", makedev(0, 61)}});
}

TEST(LibvirtDiskLocation, AFileIsOnTheLongestMountPointItStartsWithTheTopmostOne) {
    const MountTable t = mounts();
    EXPECT_EQ(t.containing("/mnt/pool1/vol.qcow2")->dev, makedev(0, 61));  // mounted over
    EXPECT_EQ(t.containing("/mnt/pool10/vol.qcow2")->target, "/mnt/pool10");
    EXPECT_EQ(t.containing("/mnt/pool100/vol.qcow2")->target, "/");  // not /mnt/pool10
    EXPECT_EQ(t.containing("/var/lib/libvirt/images/a.img")->target, "/");
}

TEST(LibvirtDiskLocation, FilesAreLocatedWithoutTouchingThem) {
    DiskLocation l{"file", "/mnt/pool1/./dir/../vol.qcow2", {}, {}, {}};
    locate(l, mounts());  // the file does not exist: only the table is read
    EXPECT_EQ(l.mount_point, "/mnt/pool1");
    EXPECT_EQ(l.dev, makedev(0, 61));  // NFS: the mount's anonymous device
    EXPECT_TRUE(l.error.empty()) << l.error;

    DiskLocation relative{"file", "vol.qcow2", {}, {}, {}};
    locate(relative, mounts());
    EXPECT_FALSE(relative.dev);
    EXPECT_NE(relative.error.find("not an absolute path"), std::string::npos);

    DiskLocation network{"network", "rbd:pool/image", {}, {}, {}};
    locate(network, mounts());
    EXPECT_FALSE(network.dev);
    EXPECT_NE(network.error.find("not on this host's storage"), std::string::npos);

    DiskLocation missing{"block", "/dev/iohealth-no-such-device", {}, {}, {}};
    locate(missing, mounts());
    EXPECT_FALSE(missing.dev);
    EXPECT_NE(missing.error.find("/dev/iohealth-no-such-device"), std::string::npos);
}

// --- guests to paths ---

Vm vm(std::string name, std::vector<DiskLocation> images, int state = VIR_DOMAIN_RUNNING,
      int reason = 0) {
    Vm v;
    v.uuid = "uuid-" + name;
    v.name = std::move(name);
    v.state = state;
    v.reason = reason;
    v.disks.push_back({"vda", "virtio-disk0", "disk", std::move(images)});
    return v;
}

DiskLocation on_nfs(std::string file) {
    return {"file", std::move(file), makedev(0, 61), "/mnt/pool1", {}};
}
DiskLocation on_drbd() {
    return {"block", "/dev/drbd1000", makedev(147, 1000), {}, {}};
}

PathConfig path(std::string name, PathKind kind, std::string target) {
    PathConfig p;
    p.name = std::move(name);
    p.kind = kind;
    p.target = std::move(target);
    return p;
}

TEST(LibvirtPathVms, GuestsAreListedOnThePathsTheirImagesLiveOn) {
    VmSnapshot s;
    s.vms = {vm("a", {on_nfs("/mnt/pool1/a.qcow2")}),
             vm("b", {on_drbd()}, VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_IOERROR),
             // a disk on DRBD whose template lives on the NFS pool: on both
             vm("c", {on_drbd(), on_nfs("/mnt/pool1/template.qcow2")})};
    const PathConfig nfs = path("nfs", PathKind::kMount, "/mnt/pool1/");  // trailing slash
    const PathConfig drbd = path("r0", PathKind::kDrbd, "r0");
    const PathConfig other = path("sdc", PathKind::kDevice, "/dev/sdc");
    PathVmTracker tracker;
    auto out = tracker.collect(
        s, {{&nfs, std::nullopt}, {&drbd, makedev(147, 1000)}, {&other, makedev(8, 32)}});
    EXPECT_EQ(out["nfs"].vms, (std::vector<VmOnPath>{{"a", "running"}, {"c", "running"}}));
    EXPECT_EQ(out["r0"].vms,
              (std::vector<VmOnPath>{{"b", "paused (I/O error)"}, {"c", "running"}}));
    EXPECT_EQ(out["r0"].paused_on_io_error, std::vector<std::string>{"b"});
    EXPECT_TRUE(out["sdc"].vms.empty());
    EXPECT_TRUE(out["nfs"].paused_on_io_error.empty());
}

TEST(LibvirtPathVms, AnIoErrorCountsOnceOnThePathOfItsDisk) {
    VmSnapshot s;
    s.vms = {vm("a", {on_nfs("/mnt/pool1/a.qcow2")})};
    s.io_errors.push_back(
        {1, {}, "a", "vda", "/mnt/pool1/a.qcow2", "eio", {on_nfs("/mnt/pool1/a.qcow2")}});
    s.io_errors.push_back(
        {2, {}, "a", "vda", "/mnt/pool1/a.qcow2", "enospc", {on_nfs("/mnt/pool1/a.qcow2")}});
    const PathConfig nfs = path("nfs", PathKind::kMount, "/mnt/pool1");
    const PathConfig drbd = path("r0", PathKind::kDrbd, "r0");
    const std::vector<WatchedPath> paths{{&nfs, makedev(0, 61)}, {&drbd, makedev(147, 1000)}};
    PathVmTracker tracker;

    auto first = tracker.collect(s, paths);
    EXPECT_EQ(first["nfs"].io_errors, 2u);
    EXPECT_EQ(first["nfs"].last_io_error, "a vda: enospc");
    EXPECT_EQ(first["r0"].io_errors, 0u);

    EXPECT_EQ(tracker.collect(s, paths)["nfs"].io_errors, 0u);  // already counted

    s.io_errors.pop_front();  // history trimmed, one new event
    s.io_errors.push_back(
        {3, {}, "a", "vda", "/mnt/pool1/a.qcow2", "eio", {on_nfs("/mnt/pool1/a.qcow2")}});
    EXPECT_EQ(tracker.collect(s, paths)["nfs"].io_errors, 1u);
}

// Issue 15: a guest with a disk on each of two paths paused on an I/O error of one of them; the
// pause is the named disk's path's fact, not the other's.
TEST(LibvirtPathVms, APauseIsBlamedOnThePathOfTheDiskTheEventNamed) {
    Vm lvtest = vm("lvtest", {on_drbd()}, VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_IOERROR);
    lvtest.disks.push_back({"vdb", "virtio-disk1", "disk", {on_nfs("/mnt/pool1/lvtest.qcow2")}});
    VmSnapshot s;
    s.vms = {lvtest};
    s.io_errors.push_back({1, {}, "lvtest", "vda", "/dev/drbd1000", "", {on_drbd()}});
    const PathConfig nfs = path("nfs", PathKind::kMount, "/mnt/pool1");
    const PathConfig drbd = path("r0", PathKind::kDrbd, "r0");
    const std::vector<WatchedPath> paths{{&nfs, makedev(0, 61)}, {&drbd, makedev(147, 1000)}};
    PathVmTracker tracker;
    auto out = tracker.collect(s, paths);
    EXPECT_EQ(out["r0"].paused_on_io_error, std::vector<std::string>{"lvtest"});
    EXPECT_TRUE(out["nfs"].paused_on_io_error.empty());
    EXPECT_EQ(out["nfs"].vms, (std::vector<VmOnPath>{{"lvtest", "paused (I/O error)"}}));
    // The next ticks too (the event is counted once, the pause stays where it was).
    s.io_errors.clear();
    out = tracker.collect(s, paths);
    EXPECT_EQ(out["r0"].paused_on_io_error, std::vector<std::string>{"lvtest"});
    EXPECT_TRUE(out["nfs"].paused_on_io_error.empty());
    // Resumed, then paused again with no event seen: every path it has a disk on.
    s.vms[0].state = VIR_DOMAIN_RUNNING;
    tracker.collect(s, paths);
    s.vms[0].state = VIR_DOMAIN_PAUSED;
    out = tracker.collect(s, paths);
    EXPECT_EQ(out["nfs"].paused_on_io_error, std::vector<std::string>{"lvtest"});
    EXPECT_EQ(out["r0"].paused_on_io_error, std::vector<std::string>{"lvtest"});
}

// Issue 15: QEMU's driver sends an empty reason for most I/O errors.
TEST(LibvirtPathVms, AnEmptyReasonSaysTheHypervisorGaveNone) {
    VmSnapshot s;
    s.vms = {vm("lvtest", {on_drbd()})};
    s.io_errors.push_back({1, {}, "lvtest", "vda", "/dev/drbd1000", "", {on_drbd()}});
    const PathConfig drbd = path("r0", PathKind::kDrbd, "r0");
    PathVmTracker tracker;
    auto out = tracker.collect(s, {{&drbd, makedev(147, 1000)}});
    StorageFacts f;
    add_vm_facts(out["r0"], f);
    EXPECT_EQ(describe_vm_facts(f),
              "1 VM I/O error (latest lvtest vda: I/O error (no reason given by the hypervisor))");
    EXPECT_EQ(io_error_reason_text("enospc"), "enospc");
}

TEST(LibvirtPathVms, TheFactsNameTheErrorsAndThePausedGuests) {
    PathVms p;
    p.io_errors = 3;
    p.last_io_error = "a vda: eio";
    p.paused_on_io_error = {"a", "b"};
    StorageFacts f;
    add_vm_facts(p, f);
    EXPECT_EQ(describe_vm_facts(f),
              "3 VM I/O errors (latest a vda: eio); paused on I/O error: a, b");
    EXPECT_EQ(describe_vm_facts(StorageFacts{}), "");
}

TEST(LibvirtPathVms, TheVerdictReasonNamesThem) {
    PathConfig p = path("nfs", PathKind::kMount, "/mnt/pool1");
    p.policy.ladder = {{Action::kLogOnly, 10s}};
    PathMonitor monitor(p);
    Sample s;
    s.at = from_usec(1'000'000);
    s.kernel.available = true;
    s.kernel.issued = s.kernel.completed = 10;
    s.facts.vm_io_errors = 2;
    s.facts.vm_io_error = "a vda: enospc";
    s.facts.vms_paused_on_io_error = {"a"};
    monitor.tick(s, EffectiveMode{});
    EXPECT_TRUE(monitor.assessment().reason.ends_with(
        "; 2 VM I/O errors (latest a vda: enospc); paused on I/O error: a"))
        << monitor.assessment().reason;
}

TEST(LibvirtVm, StateTextsAreVirshWords) {
    EXPECT_EQ(vm_state_text(VIR_DOMAIN_RUNNING, 1), "running");
    EXPECT_EQ(vm_state_text(VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_IOERROR), "paused (I/O error)");
    EXPECT_EQ(vm_state_text(VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_USER), "paused (user)");
    EXPECT_EQ(vm_state_text(VIR_DOMAIN_SHUTOFF, 0), "shut off");
    EXPECT_EQ(vm_state_text(42, 0), "unknown");
}

}  // namespace
}  // namespace iohealth
