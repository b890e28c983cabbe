"""Brokers behind one interface (base.Broker): the built-in paper broker and Alpaca."""
