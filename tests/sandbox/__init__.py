"""Protocol tests of intacct_sandbox: raw XML over real HTTP."""
