package emulator

// workersState is the Workers family's part of the store. (stub: to be filled in)
type workersState struct{}

func (st *workersState) init() {}

func (s *Server) routesWorkers() {}
