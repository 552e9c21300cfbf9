"""The service layer: each command a unit of work (joint tasks, draws, results, publication,
verification), reading departments first and writing the hub store in one short transaction."""
