#!/bin/busybox sh
# /init of the floor guest: the least a PID 1 must do to say something on the agent's channel.
# It runs under busybox's sh from the same initramfs layout as berth-init, so the difference
# between the two boots is what berth-init does beyond this.
# Applets are called as `busybox APPLET` because the floor's archive carries no applet links.
busybox mount -t proc proc /proc
busybox mount -t sysfs sysfs /sys
busybox mount -t devtmpfs devtmpfs /dev
while read -r module; do
	busybox insmod "/lib/modules/$module"
done < /lib/modules/load.order
# virtio_console learns a port's name from the host over its control queue after the driver has
# bound, so the name can lag insmod; berth-init retries its open for the same reason.
port=
tries=0
while [ -z "$port" ] && [ "$tries" -lt 500 ]; do
	for dir in /sys/class/virtio-ports/*; do
		[ -r "$dir/name" ] || continue
		read -r name < "$dir/name"
		[ "$name" = org.berth.agent.0 ] && port="/dev/${dir##*/}"
	done
	[ -n "$port" ] || busybox usleep 10000
	tries=$((tries + 1))
done
if [ -n "$port" ]; then
	echo "floor: up $tries" > "$port"
else
	echo "floor: no port org.berth.agent.0" > /dev/console
fi
busybox poweroff -f
