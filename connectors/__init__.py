"""Connectors read one kind of source and yield typed records.

A connector is a plain generator: it never opens the warehouse. Each record it yields carries its
position in the source (a 1-based line number) so a reject or a stored row can be traced back to the
exact place it came from. Records that cannot be read are yielded as `Rejected`, never raised, so one
bad record never stops the rest of a file.
"""
