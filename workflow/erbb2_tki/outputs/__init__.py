"""What people read: the batch tables, the workbook, MultiQC, figures, report pages, re-analysis diffs."""
