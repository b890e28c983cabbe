"""Background jobs: the APScheduler setup, the leader election that keeps exactly one scheduler running among all
app workers and standalone ``python -m jobs`` processes, and the job functions (which call services).

Nothing here imports ``reflex``: the same code runs inside the web app's lifespan and as a separate process.
"""
