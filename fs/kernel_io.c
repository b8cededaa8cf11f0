/* SPDX-License-Identifier: MIT */
/*
 * kernel_io.c — reads and writes of /dev/fuse, to ask the kernel for parallel directory
 * operations.
 *
 * Without FUSE_PARALLEL_DIROPS the kernel runs one LOOKUP per directory at a time. A lookup of
 * <module>@<version> may wait seconds on upstream, and every sibling (every other module under github.com/foo)
 * would wait behind it. libfuse 3.14 offers FUSE_CAP_PARALLEL_DIROPS and turns it on by
 * default, but its INIT reply never carries the flag (measured here: the reply's flags lack
 * bit 18). These hooks pass every message through unchanged except that one reply, to which
 * they add the flag when the kernel offered it. Our lookups and readdirs are safe to run in
 * parallel in one directory: every shared structure has its lock.
 *
 * The INIT request and its reply come before any other message, on the one worker thread that
 * exists then, so the fields they use need no lock.
 */
#include <errno.h>
#include <linux/fuse.h>
#include <stddef.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fs_i.h"

static ssize_t fs_io_read(int fd, void *buf, size_t len, void *userdata)
{
    fs_mount_t *m = userdata;
    ssize_t n = read(fd, buf, len);
    if (!m->init_seen && n >= (ssize_t)(sizeof(struct fuse_in_header) + offsetof(struct fuse_init_in, flags) + 4)) {
        const struct fuse_in_header *in = buf;
        if (in->opcode == FUSE_INIT) {
            const struct fuse_init_in *init = (const void *)(in + 1);
            m->init_unique = in->unique;
            m->kernel_flags = init->flags;
            m->init_seen = true;
        }
    }
    return n;
}

static ssize_t fs_io_writev(int fd, struct iovec *iov, int count, void *userdata)
{
    fs_mount_t *m = userdata;
    if (m->init_seen && !m->init_replied && count == 2 && iov[0].iov_len == sizeof(struct fuse_out_header)) {
        const struct fuse_out_header *out = iov[0].iov_base;
        size_t len = iov[1].iov_len;
        uint8_t body[512];
        if (out->unique == m->init_unique) {
            m->init_replied = true;
            if (out->error == 0 && (m->kernel_flags & FUSE_PARALLEL_DIROPS) &&
                len >= offsetof(struct fuse_init_out, flags) + sizeof(uint32_t) && len <= sizeof(body)) {
                uint32_t flags;
                memcpy(body, iov[1].iov_base, len);
                memcpy(&flags, body + offsetof(struct fuse_init_out, flags), sizeof(flags));
                flags |= FUSE_PARALLEL_DIROPS;
                memcpy(body + offsetof(struct fuse_init_out, flags), &flags, sizeof(flags));
                struct iovec patched[2] = {iov[0], {.iov_base = body, .iov_len = len}};
                return writev(fd, patched, 2);
            }
        }
    }
    return writev(fd, iov, count);
}

int fs_kernel_io_install(fs_mount_t *m)
{
    static const struct fuse_custom_io io = {.writev = fs_io_writev, .read = fs_io_read};
    return fuse_session_custom_io(m->se, &io, fuse_session_fd(m->se));
}
