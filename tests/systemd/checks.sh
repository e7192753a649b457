ct systemctl list-units --no-pager --no-legend | head -30; ct ip -br addr
