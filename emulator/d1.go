package emulator

// d1State is the D1 family's part of the store. (stub: to be filled in)
type d1State struct{}

func (st *d1State) init() {}

func (s *Server) routesD1() {}
