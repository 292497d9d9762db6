"""The proxy studies behind `harness study nb201|darts ACTION`: which correlate runs they need,
how their cells files merge into results/reference/, and the measurements of what the
contrastive score responds to. Each module keeps its own argparse front end (`main(argv)`)."""
