"""Pure domain logic of joint "double random, one public" supervision: no I/O, no clock.

Callers pass in everything, including ``today`` and the seed (``secrets.token_bytes(32)``);
the resolvers and the hub store do the reading, writing and recording.

- ``checklist``       merge the departments' item lists into one form per entity
- ``ranking``         HMAC-SHA256 ranks and seed commitments: the only source of chance
- ``entity_draw``     stratified entity draw (ratio per grade, floor, cap, exclusions,
                      listed entities weighted) and the sharded top-k merge
- ``inspector_pool``  inspectors indexed for the draw; the rules for filling one seat
- ``team_draw``       a team per visit: departments, tags, avoidance, rotation, workload
- ``substitution``    replace an inspector who cannot go, with the reason recorded
- ``savings``         visits and dispatches saved against departments going alone
- ``results``         review states of a result; routing outcomes back to departments;
                      four eyes (who enters, who reviews)
- ``calendar``        China's official working days (the package's tables + the data file)
- ``deadlines``       working-day deadlines (publication 20, matching 2, repair 10 and 3)
- ``publication``     the public record of a result: no inspector data
- ``credit``          credit records from results, deductions, score to grade
- ``credit_lists``    penalty publicity periods, credit repair, abnormal → serious list
"""
