"""Teams: a facilitator's own group, whose sessions form a series (monthly moreel beraad)."""
