#!/bin/sh
if [ -d /run/systemd/system ]; then
	systemctl stop plausch.service >/dev/null 2>&1 || true
	systemctl disable plausch.service >/dev/null 2>&1 || true
fi
