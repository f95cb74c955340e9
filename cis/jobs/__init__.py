"""The I/O edge of each CLI verb: read the database, call the pure logic, write results."""
