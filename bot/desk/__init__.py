"""The desk's work: tickets, the live desk (线上帮办), ratings, staff, flows, hours and the working-day calendar."""
