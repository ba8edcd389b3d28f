"""Projections: views built from the event log, each with its stores."""
