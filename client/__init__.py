"""ftemu's client side: a minimal client library, the `ftemu` CLI and the data-preparation tool."""
