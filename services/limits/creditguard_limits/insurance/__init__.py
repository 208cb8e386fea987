"""Credit insurance: policies and per-buyer cover; exposure above cover is uninsured."""
