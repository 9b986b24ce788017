// SPDX-License-Identifier: GPL-2.0
/* Bio-based devices (DRBD, device-mapper, md, zram): block_rq_* never fires for them, so the
 * bio is tracked from block_bio_queue to block_bio_complete, keyed by its pointer.
 *
 * block_bio_queue fires for every bio, blk-mq disks included, but blk-mq clears
 * BIO_TRACE_COMPLETION when it completes a bio through a request, so those bios never reach
 * block_bio_complete: recording them would leave phantom "stuck" entries (128 reproduced in
 * research). Only disks whose fops have ->submit_bio (bio-based) are recorded. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "block.bpf.h"

const volatile bool filter_dev = true;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, IOH_MAX_DEVS);
	__type(key, __u32);
	__type(value, struct ioh_dev_stats);
} bio_dev_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IOH_MAX_INFLIGHT);
	__type(key, __u64);
	__type(value, struct ioh_inflight);
} bio_inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IOH_DIAG_MAX);
	__type(key, __u32);
	__type(value, __u64);
} bio_diag SEC(".maps");

SEC("tp_btf/block_bio_queue")
int BPF_PROG(handle_bio_queue, struct bio *bio)
{
	struct gendisk *disk = bio->bi_bdev->bd_disk;
	struct ioh_inflight v = {};
	struct ioh_dev_stats *s;
	__u64 key = (__u64)bio;
	__u32 dev;

	if (!disk || !disk->fops->submit_bio)
		return 0;
	/* The whole disk, not the partition in bi_bdev: the same key as the rq family. */
	dev = IOH_MKDEV(disk->major, disk->first_minor);
	s = ioh_dev_stats(&bio_dev_stats, &bio_diag, dev, filter_dev);
	if (!s)
		return 0;
	s->issued += 1;
	v.start_ns = bpf_ktime_get_ns();
	v.dev = dev;
	v.bytes = bio->bi_iter.bi_size;
	v.op = ioh_op(bio->bi_opf);
	if (bpf_map_update_elem(&bio_inflight, &key, &v, BPF_ANY))
		ioh_diag_inc(&bio_diag, IOH_DIAG_INFLIGHT_UPDATE_FAIL);
	return 0;
}

SEC("tp_btf/block_bio_complete")
int BPF_PROG(handle_bio_complete, struct request_queue *q, struct bio *bio)
{
	struct ioh_inflight *e;
	struct ioh_dev_stats *s;
	__u64 key = (__u64)bio;
	__u64 now, start;
	__u32 dev, op, bytes;
	__u8 status;

	/* Misses are bios queued before attach and split children (the parent completes last,
	 * carrying the whole bio's latency). */
	e = bpf_map_lookup_elem(&bio_inflight, &key);
	if (!e)
		return 0;
	start = e->start_ns;
	dev = e->dev;
	op = e->op;
	bytes = e->bytes;
	bpf_map_delete_elem(&bio_inflight, &key);
	s = bpf_map_lookup_elem(&bio_dev_stats, &dev);
	if (!s)
		return 0;
	now = bpf_ktime_get_ns();
	status = bio->bi_status;
	ioh_record_completion(s, op, now - start, now > start, now, status != 0, ioh_err_kind(status),
			      bytes);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
