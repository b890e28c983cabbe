"""Investment App: track, analyze, optimize, backtest, execute and monitor a portfolio."""
