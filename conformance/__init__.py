"""ftemu's conformance kit: a pytest plugin and a behaviour suite that checks any server against the API."""
