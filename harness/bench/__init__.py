"""Speed benchmarks, one module per thing timed, behind `harness bench <what>` (printed figures,
never asserted): `grid` (the harness's own cost), `proxies` (trained proxies), `zero_cost`,
`evaluate` (the training step of `harness evaluate`). Each imports only public functions of
what it times."""
