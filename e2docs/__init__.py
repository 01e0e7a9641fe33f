"""e2docs — E2 competence grids for the Bac pro MCV option B.

Generates protected scoring workbooks from a class list, reads them back,
and merges the results into Word documents. The public API is re-exported here.
"""

__version__ = "0.1.0"
