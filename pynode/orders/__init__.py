"""Order workflows shared by the CLI, the daemons and the demo: buyer side and partner side."""
