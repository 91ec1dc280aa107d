package emulator

// routes registers every family's REST routes. Each family lives in its own file and
// owns its part of state.
func (s *Server) routes() {
	s.routesAccount()
	s.routesQueues()
	s.routesWorkers()
	s.routesAlerting()
	s.routesKV()
	s.routesR2()
	s.routesD1()
	s.routesContainers()
	s.routesAnalytics()
	s.routesGraphQL()
	s.routesLogpush()
}
