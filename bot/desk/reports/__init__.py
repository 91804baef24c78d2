"""Statistics and reports for supervisors: figures by SQL, the /stats text, charts, the workbook, the monthly
report (issue 15 §3)."""
