"""Services: domain logic. Each public function is one transaction (commit or nothing) unless
its docstring says it only adds to the caller's transaction."""
