"""Handler groups, in the order PTB runs them for each update (lowest first). Within a group the
first handler that matches takes the update; every group gets its turn. All group numbers live here.
(bot/logs.py runs one group earlier still, -101, to tag log lines with the update id.)"""

IDENTITY = -100  # who is asking and in which language (handlers/identity.py), for every update
FLOOD = -90  # per-user limit on incoming updates: a flooding user's updates stop here
BROADCAST_DRAFT = -10  # a /broadcast draft waiting for its text takes private messages first
EVENT_DRAFT = -5  # an /event draft waiting for a typed date or number of days
DEFAULT = 0  # commands, buttons, report drafts, and last the strangers' fallback
