#!/bin/sh
# Tell systemd about the unit; start nothing: the operator sets the domain
# in /etc/plausch/plausch.env first (docs/operations.md).
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
