"""How a read runs: plans compiled from the field declarations, run breadth-first with
batched loads per department and level; strawberry answers whatever has no plan."""
