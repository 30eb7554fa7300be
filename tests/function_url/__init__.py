"""Tests of the local Function URL emulator."""
