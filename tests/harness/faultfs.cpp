// faultfs: a FUSE filesystem that serves one image file, backed by a real file, whose I/O
// can be delayed, hung or failed on command. A loop device over /image is then a real block
// device with injectable faults: delay = contention, hang = a dead path, eio = a failing one.
//
//   faultfs BACKING_FILE MOUNTPOINT     (foreground; prints "ready" once mounted)
//
// The mount holds two files:
//   image  the backing file. Opened with direct_io, so every read and write reaches this
//          server (no FUSE page cache that would answer a re-read while "hung").
//   ctl    write a command, read the state. A write returns once the command took effect.
//            delay MIN_MS [MAX_MS]  each new request waits a uniform random time in range
//            hang                   each new request is held until release/heal
//            eio                    each new request fails with EIO
//            lose [N]               the next N requests (default 1) are held until
//                                   release/heal, whatever the mode: a request lost by a
//                                   driver while the others are served
//            release                held requests complete under the current mode (so
//                                   hang, eio, release fails them); leaves hang mode
//            heal                   normal mode, and release
//          reading gives "mode=hang delay_ms=0-0 held=1 served=12 failed=0\n".
//
// Requests are read, write and fsync on image. Low-level API, so a held or delayed request is
// parked (its fuse_req_t kept) instead of blocking a worker thread: however many requests
// hang, the workers stay free and ctl always answers. The loop is multithreaded as well.
#define FUSE_USE_VERSION 312
#include <fuse3/fuse_lowlevel.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fcntl.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

constexpr fuse_ino_t kRootIno = FUSE_ROOT_ID;
constexpr fuse_ino_t kImageIno = 2;
constexpr fuse_ino_t kCtlIno = 3;

enum class Mode { kNormal, kDelay, kHang, kEio };

const char* mode_name(Mode m) {
    switch (m) {
        case Mode::kNormal:
            return "normal";
        case Mode::kDelay:
            return "delay";
        case Mode::kHang:
            return "hang";
        case Mode::kEio:
            return "eio";
    }
    return "invalid";
}

enum class Op { kRead, kWrite, kFsync };

struct Request {
    fuse_req_t req;
    Op op;
    off_t off = 0;
    size_t size = 0;
    std::vector<char> data;  // writes: copied, the kernel's buffer is gone once we return
};

class FaultFs {
  public:
    explicit FaultFs(int backing_fd) : backing_fd_(backing_fd) {}

    // --- requests on image ---
    void submit(Request r) {
        std::unique_lock lock(mutex_);
        if (lose_next_ > 0) {
            --lose_next_;
            held_.push_back(std::move(r));
            return;
        }
        switch (mode_) {
            case Mode::kNormal:
                lock.unlock();
                perform(r);
                return;
            case Mode::kEio:
                ++failed_;
                lock.unlock();
                fuse_reply_err(r.req, EIO);
                return;
            case Mode::kHang:
                held_.push_back(std::move(r));
                return;
            case Mode::kDelay:
                schedule(std::move(r));
                return;
        }
    }

    // --- ctl ---
    // Returns 0 or an errno for the write reply; `why` says what was wrong.
    int command(const std::string& line, std::string& why) {
        std::istringstream in(line);
        std::string verb;
        in >> verb;
        std::unique_lock lock(mutex_);
        if (verb == "delay") {
            long min_ms = -1, max_ms = -1;
            in >> min_ms;
            if (!(in >> max_ms)) max_ms = min_ms;
            if (min_ms < 0 || max_ms < min_ms) {
                why = "delay needs MIN_MS [MAX_MS] with 0 <= MIN_MS <= MAX_MS";
                return EINVAL;
            }
            mode_ = Mode::kDelay;
            delay_min_ = std::chrono::milliseconds(min_ms);
            delay_max_ = std::chrono::milliseconds(max_ms);
        } else if (verb == "hang") {
            mode_ = Mode::kHang;
        } else if (verb == "lose") {
            long n = 1;
            if (in >> n && n < 1) {
                why = "lose needs a count of at least 1";
                return EINVAL;
            }
            lose_next_ = n;
        } else if (verb == "eio") {
            mode_ = Mode::kEio;
        } else if (verb == "release" || verb == "heal") {
            if (verb == "heal" || mode_ == Mode::kHang) mode_ = Mode::kNormal;
            if (verb == "heal") lose_next_ = 0;
            std::deque<Request> held;
            held.swap(held_);
            lock.unlock();
            for (auto& r : held) submit(std::move(r));
        } else {
            why = "unknown command '" + verb + "' (delay, hang, lose, eio, release, heal)";
            return EINVAL;
        }
        return 0;
    }

    std::string status() {
        std::lock_guard lock(mutex_);
        char buf[200];
        std::snprintf(
            buf, sizeof buf, "mode=%s delay_ms=%lld-%lld held=%zu served=%llu failed=%llu\n",
            mode_name(mode_), static_cast<long long>(delay_min_.count()),
            static_cast<long long>(delay_max_.count()), held_.size(),
            static_cast<unsigned long long>(served_), static_cast<unsigned long long>(failed_));
        return buf;
    }

    // --- the timer thread: completes delayed requests when they are due ---
    void run_timer() {
        std::unique_lock lock(mutex_);
        while (!stopping_) {
            if (due_.empty()) {
                wake_.wait(lock);
                continue;
            }
            const auto first = due_.begin();
            if (first->first > Clock::now()) {
                wake_.wait_until(lock, first->first);
                continue;
            }
            Request r = std::move(first->second);
            due_.erase(first);
            lock.unlock();
            perform(r);
            lock.lock();
        }
    }

    // At exit nothing may stay unanswered: fail what is parked.
    void shutdown() {
        std::unique_lock lock(mutex_);
        stopping_ = true;
        wake_.notify_all();
        std::vector<fuse_req_t> parked;
        for (auto& r : held_) parked.push_back(r.req);
        for (auto& [when, r] : due_) parked.push_back(r.req);
        held_.clear();
        due_.clear();
        lock.unlock();
        for (auto req : parked) fuse_reply_err(req, EIO);
    }

    off_t size() const {
        struct stat st {};
        return ::fstat(backing_fd_, &st) == 0 ? st.st_size : 0;
    }
    int backing_fd() const { return backing_fd_; }

  private:
    void schedule(Request r) {  // mutex_ held
        std::uniform_int_distribution<long long> pick(delay_min_.count(), delay_max_.count());
        const auto when = Clock::now() + std::chrono::milliseconds(pick(rng_));
        due_.emplace(when, std::move(r));
        wake_.notify_all();
    }

    void perform(Request& r) {
        int err = 0;
        ssize_t n = 0;
        std::vector<char> buf;
        switch (r.op) {
            case Op::kRead:
                buf.resize(r.size);
                n = ::pread(backing_fd_, buf.data(), r.size, r.off);
                break;
            case Op::kWrite:
                n = ::pwrite(backing_fd_, r.data.data(), r.data.size(), r.off);
                break;
            case Op::kFsync:
                n = ::fdatasync(backing_fd_);
                break;
        }
        if (n < 0) err = errno;
        {
            std::lock_guard lock(mutex_);
            ++(err ? failed_ : served_);
        }
        if (err) {
            fuse_reply_err(r.req, err);
        } else if (r.op == Op::kRead) {
            fuse_reply_buf(r.req, buf.data(), static_cast<size_t>(n));
        } else if (r.op == Op::kWrite) {
            fuse_reply_write(r.req, static_cast<size_t>(n));
        } else {
            fuse_reply_err(r.req, 0);
        }
    }

    const int backing_fd_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    Mode mode_ = Mode::kNormal;
    long lose_next_ = 0;
    std::chrono::milliseconds delay_min_{0}, delay_max_{0};
    std::deque<Request> held_;
    std::multimap<Clock::time_point, Request> due_;
    std::mt19937_64 rng_{std::random_device{}()};
    unsigned long long served_ = 0, failed_ = 0;
};

FaultFs* self(fuse_req_t req) {
    return static_cast<FaultFs*>(fuse_req_userdata(req));
}

struct stat attr_of(FaultFs* fs, fuse_ino_t ino) {
    struct stat st {};
    st.st_ino = ino;
    st.st_uid = ::getuid();
    st.st_gid = ::getgid();
    if (ino == kRootIno) {
        st.st_mode = S_IFDIR | 0755;
        st.st_nlink = 2;
    } else {
        st.st_mode = S_IFREG | (ino == kImageIno ? 0600 : 0200);
        st.st_nlink = 1;
        st.st_size = ino == kImageIno ? fs->size() : 0;
    }
    return st;
}

void op_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
    fuse_ino_t ino = 0;
    if (parent == kRootIno && std::strcmp(name, "image") == 0) ino = kImageIno;
    if (parent == kRootIno && std::strcmp(name, "ctl") == 0) ino = kCtlIno;
    if (!ino) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    fuse_entry_param e{};
    e.ino = ino;
    e.attr = attr_of(self(req), ino);
    fuse_reply_entry(req, &e);  // timeouts 0: the image size is always asked afresh
}

void op_getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
    if (ino != kRootIno && ino != kImageIno && ino != kCtlIno) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    const struct stat st = attr_of(self(req), ino);
    fuse_reply_attr(req, &st, 0);
}

void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info*) {
    if ((to_set & FUSE_SET_ATTR_SIZE) && ino == kImageIno &&
        ::ftruncate(self(req)->backing_fd(), attr->st_size) != 0) {
        fuse_reply_err(req, errno);
        return;
    }
    const struct stat st = attr_of(self(req), ino);  // other changes are not kept
    fuse_reply_attr(req, &st, 0);
}

void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
    if (ino != kRootIno) {
        fuse_reply_err(req, ENOTDIR);
        return;
    }
    struct Entry {
        const char* name;
        fuse_ino_t ino;
    };
    const Entry entries[] = {
        {".", kRootIno}, {"..", kRootIno}, {"image", kImageIno}, {"ctl", kCtlIno}};
    std::vector<char> buf(size);
    size_t used = 0;
    for (off_t i = off; i < static_cast<off_t>(std::size(entries)); ++i) {
        struct stat st {};
        st.st_ino = entries[i].ino;
        st.st_mode = entries[i].ino == kRootIno ? S_IFDIR : S_IFREG;
        const size_t len =
            fuse_add_direntry(req, buf.data() + used, size - used, entries[i].name, &st, i + 1);
        if (len > size - used) break;
        used += len;
    }
    fuse_reply_buf(req, buf.data(), used);
}

void op_open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    if (ino != kImageIno && ino != kCtlIno) {
        fuse_reply_err(req, EISDIR);
        return;
    }
    fi->direct_io = 1;  // every I/O reaches submit(); ctl content is never cached either
    fi->keep_cache = 0;
    fuse_reply_open(req, fi);
}

void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
    if (ino == kCtlIno) {
        const std::string s = self(req)->status();
        const size_t start = std::min(static_cast<size_t>(off), s.size());
        fuse_reply_buf(req, s.data() + start, std::min(size, s.size() - start));
        return;
    }
    self(req)->submit(Request{req, Op::kRead, off, size, {}});
}

void op_write(fuse_req_t req, fuse_ino_t ino, const char* data, size_t size, off_t off,
              fuse_file_info*) {
    if (ino == kCtlIno) {
        std::string why;
        const int err = self(req)->command(std::string(data, size), why);
        if (err) {
            std::fprintf(stderr, "faultfs: rejected ctl command '%.*s': %s\n",
                         static_cast<int>(std::min<size_t>(size, 80)), data, why.c_str());
            fuse_reply_err(req, err);
        } else {
            fuse_reply_write(req, size);
        }
        return;
    }
    self(req)->submit(Request{req, Op::kWrite, off, size, std::vector<char>(data, data + size)});
}

void op_fsync(fuse_req_t req, fuse_ino_t ino, int, fuse_file_info*) {
    if (ino != kImageIno) {
        fuse_reply_err(req, 0);
        return;
    }
    self(req)->submit(Request{req, Op::kFsync, 0, 0, {}});
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s BACKING_FILE MOUNTPOINT\n", argv[0]);
        return 2;
    }
    const int backing_fd = ::open(argv[1], O_RDWR | O_CLOEXEC);
    if (backing_fd < 0) {
        std::fprintf(stderr, "faultfs: Failed to open backing file '%s': %s\n", argv[1],
                     std::strerror(errno));
        return 1;
    }
    FaultFs fs(backing_fd);

    fuse_lowlevel_ops ops{};
    ops.lookup = op_lookup;
    ops.getattr = op_getattr;
    ops.setattr = op_setattr;
    ops.readdir = op_readdir;
    ops.open = op_open;
    ops.read = op_read;
    ops.write = op_write;
    ops.fsync = op_fsync;

    char prog[] = "faultfs";
    char opt[] = "-o";
    char names[] = "fsname=faultfs,subtype=faultfs";
    char* fuse_argv[] = {prog, opt, names, nullptr};
    fuse_args args = FUSE_ARGS_INIT(3, fuse_argv);
    // The session parses the arguments into copies, freed when it is done (as libfuse's
    // examples do; LeakSanitizer reported them otherwise).
    std::unique_ptr<fuse_args, decltype(&fuse_opt_free_args)> free_args(&args, &fuse_opt_free_args);
    fuse_session* se = fuse_session_new(&args, &ops, sizeof ops, &fs);
    if (!se) {
        std::fprintf(stderr, "faultfs: Failed to create the FUSE session\n");
        return 1;
    }
    if (fuse_set_signal_handlers(se) != 0 || fuse_session_mount(se, argv[2]) != 0) {
        std::fprintf(stderr, "faultfs: Failed to mount on '%s'\n", argv[2]);
        fuse_session_destroy(se);
        return 1;
    }
    std::printf("ready\n");
    std::fflush(stdout);

    std::thread timer([&fs] { fs.run_timer(); });
    fuse_loop_config* cfg = fuse_loop_cfg_create();
    fuse_loop_cfg_set_max_threads(cfg, 64);
    const int rc = fuse_session_loop_mt(se, cfg);
    fuse_loop_cfg_destroy(cfg);
    fs.shutdown();
    timer.join();

    fuse_session_unmount(se);
    fuse_remove_signal_handlers(se);
    fuse_session_destroy(se);
    ::close(backing_fd);
    return rc < 0 ? 1 : 0;
}
