# shellcheck shell=bash
# NFS over loopback in the guest, for the nfs-* scenarios (source after lib.sh): the guest's
# own kernel server exports one directory as the NFSv4 root, and the client mounts it.

# nfs_serve DIR: export DIR (fsid=0) and start the server. Grace and lease are 10 s (the
# minimum): a restarted server holds new OPENs for its grace period, and the client renews its
# lease every few seconds, which the server answers.
nfs_serve() {
	echo "$1 127.0.0.1(rw,fsid=0,no_root_squash,no_subtree_check,insecure,sync)" >/etc/exports
	mkdir -p /run/rpcbind /var/lib/nfs/v4recovery
	rpcbind
	exportfs -ra
	rpc.mountd
	nfs_server_start
	step "NFS server exporting $1"
}
nfs_server_start() { rpc.nfsd --grace-time 10 --lease-time 10 8; }
nfs_server_stop() { rpc.nfsd 0; }

# nfs_mount MOUNT_POINT OPTIONS: NFSv4.2 of 127.0.0.1:/ with OPTIONS (e.g. hard,timeo=30).
nfs_mount() {
	mkdir -p "$1"
	mount -t nfs4 -o "vers=4.2,$2" 127.0.0.1:/ "$1"
	step "mounted 127.0.0.1:/ on $1 ($(awk -v m="$1" '$2 == m { print $4 }' /proc/mounts))"
}

# nfs_load FILE: fio 4k O_DIRECT writes on a file of the mount, one at a time with 50 ms
# between them (a think time, not a rate: a rate makes fio catch up after a slow phase)
# (stop_load ends it).
nfs_load() {
	step "start load: fio 4k randwrite, one at a time, 50 ms apart, on $1"
	fio --name=load --filename="$1" --size=16m --rw=randwrite --bs=4k --direct=1 \
		--ioengine=psync --thinktime=50000 --time_based --runtime=3600 --output=/dev/null &
	LOAD_PID=$!
}
