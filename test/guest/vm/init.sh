#!/bin/busybox sh
# PID 1 of the real-IPVS test guest: mount the host's root read-only over 9p, lay a tmpfs
# overlay on it so the guest may write anywhere, chroot and run the job the host gave us.
/bin/busybox mkdir -p /proc /sys /dev /lower /upper /root-rw /out
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev
for m in $(/bin/busybox cat /modules.order); do /bin/busybox insmod "/modules/$m.ko" || echo "guest-init: insmod $m failed"; done
/bin/busybox mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /lower || { echo "guest-init: cannot mount host root"; /bin/busybox poweroff -f; }
/bin/busybox mount -t tmpfs -o size=2g tmpfs /upper
/bin/busybox mkdir -p /upper/u /upper/w
/bin/busybox mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w /root-rw || { echo "guest-init: overlay failed"; /bin/busybox poweroff -f; }
/bin/busybox mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 guestout /root-rw/mnt || { echo "guest-init: cannot mount result share"; /bin/busybox poweroff -f; }
for d in proc sys dev; do /bin/busybox mount --move /$d /root-rw/$d 2>/dev/null || /bin/busybox mount -t $d $d /root-rw/$d; done
/bin/busybox mount -t tmpfs tmpfs /root-rw/run
/bin/busybox mount -t devpts devpts /root-rw/dev/pts 2>/dev/null
/bin/busybox mount -t tmpfs tmpfs /root-rw/dev/shm 2>/dev/null
echo "guest-init: ready"
/bin/busybox chroot /root-rw /bin/bash /mnt/job/run.sh
echo "guest-init: job exited $?"
/bin/busybox sync
/bin/busybox poweroff -f
