"""The ledger: transactions → tax lots → holdings → daily valuation. Money is Decimal until valuation."""
