package emulator

// kvState is the KV family's part of the store. (stub: to be filled in)
type kvState struct{}

func (st *kvState) init() {}

func (s *Server) routesKV() {}
