"""线上帮办: the live desk. Operators check in and out, users queue for a person, an operator claims
them, and messages are relayed both ways until the session ends with a 好差评 rating.

Everything lives in the database (queue, sessions, relay links, focus), so a restart keeps every
user's place and live sessions continue. Claims are atomic: a conditional UPDATE on the queue row
lets exactly one operator win, on SQLite and PostgreSQL alike. Timers call ``sweep(now)``; whatever
changes something takes the time as an argument.

One class per job, each in its own module:

    queue.LiveQueue        requesting a person, leaving, positions, claims and the offers to operators,
                           operators checking in and out
    sessions.LiveSessions  a claimed conversation: which one an operator means (focus), ending it (either
                           side), transferring it, turning it into a ticket; who is in a live chat
    relay.LiveRelay        the messages: user_says / operator_says, relay links, the transcript
    timers.LiveTimers      ``sweep(now)``: queue-wait offers, idle reminders, auto-closing
    shared                 what more than one part uses: the views and the policy, the staff and role
                           queries, focus and the ending of a session

A package rather than flat ``bot/desk/live_*.py`` modules: the four parts and ``shared`` are the live
desk's own business, so they sit together as one unit in ``bot/desk`` instead of five files among the
other desk jobs, and ``shared`` is plainly theirs and nobody else's. Import each name from the module
that defines it; this package re-exports nothing.
"""
