"""12345-style tickets, one class per job over one database (``bot.services`` wires them together).

- ``filing``: ``TicketFiling``, filing a ticket (a persisted flow) and creating one for other origins;
- ``owners``: ``OwnTickets``, the owner's side: their list, one ticket, a message, closing and reopening;
- ``work``: ``TicketWork``, staff working tickets: lists, take, reply, note, type, reassign, close, reopen;
- ``deadlines``: ``TicketDeadlines``, deadlines on the holiday calendar and recounting provisional ones;
- ``common``: what they share: types, statuses, the rules (``TicketPolicy``), the views, who may see what.

Lifecycle: new → in_progress (a member of staff took it) → answered (staff replied) → closed
(with a resolution). A user may reopen their closed ticket within ``reopen_days``; staff may reopen
any time. Deadlines are working days per type on the Chinese calendar (``bot.desk.workdays``); one counted
across a year whose official schedule is not known yet is *provisional* (staff see it so) and is
recomputed once the schedule is known (``TicketDeadlines.recompute_deadlines``).

Visibility: a user sees only their own tickets and never internal notes; staff see everything.
Every staff action goes to the audit log. Each action is one transaction; the time is passed in.
"""
