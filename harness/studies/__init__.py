"""The proxy studies behind `harness study nb201|darts ACTION`: which correlate runs they need,
how their cells files merge into results/reference/, and the measurements of what the
contrastive score responds to. Each module's `act` runs one action; the click commands are in
harness/cli/study.py. The actions are named here, so `--help` lists them without importing
the studies (pandas)."""

NB201_ACTIONS = ("run", "write", "explain")
LADDER_ACTIONS = ("cost", "run", "write")
DARTS_ACTIONS = (
    "run",
    "write",
    "explain",
    "naslib-scores",
    "naslib-summary",
    "paper-cost",
    "cell-costs",
)
