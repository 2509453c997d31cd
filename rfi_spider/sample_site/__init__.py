"""The bundled offline copy of the site (HTML, feed, robots.txt), served by ``localsite``."""
