module akrobateo.dev/test/apiload

go 1.26
