"""End-to-end simulation of a trade-credit book of business and its report."""
