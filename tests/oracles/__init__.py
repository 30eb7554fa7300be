"""Oracle cases and handler files for AWS's own Lambda runtime clients."""
