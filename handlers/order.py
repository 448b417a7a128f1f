"""Handler groups, in the order PTB runs them for each update (lowest first). Within a group the
first handler that matches takes the update; every group gets its turn. All group numbers live here.
(bot/logs.py runs group -101, before identity, to tag log lines with the update id; only QUIETED
is earlier: an ignored update costs nothing.)"""

QUIETED = -105  # a person told to slow down is ignored here, before identity reads the database
IDENTITY = -100  # who is asking and in which language (handlers/identity.py), for every update
FLOOD = -90  # per-user limit on incoming updates: a flooding user's updates stop here
GATE = -80  # groups: only commands addressed to the bot; deactivated members told so (handlers/gate.py)
DEFAULT = 0  # commands, buttons, then the router (handlers/router.py) for typed text and files
