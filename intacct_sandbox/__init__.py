"""Local Sage Intacct XML Web Services gateway (``xmlgw.phtml``) used as the demo company and e2e test target.

Run it with ``python -m intacct_sandbox``. This package never imports the product (storage, sync_engine, pages).
"""

__version__ = "0.1.0"
