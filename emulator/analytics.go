package emulator

// analyticsState is the Analytics family's part of the store. (stub: to be filled in)
type analyticsState struct{}

func (st *analyticsState) init() {}

func (s *Server) routesAnalytics() {}
