"""Results and reports: measurements recorded by the suite, report.json and report.html."""
