"""The offline demo: the loopback site server and the bundled sample site."""
