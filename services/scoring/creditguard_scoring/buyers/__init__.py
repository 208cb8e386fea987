"""Buyer profiles (the ERP's customers) and adverse events registered against them."""
