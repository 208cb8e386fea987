"""A buyer's live exposure: open invoices plus open orders, in the limit's currency, against its
own limit, its group's limit and its insurance cover."""
