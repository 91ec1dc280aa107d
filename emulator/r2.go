package emulator

import "net/http"

// r2State is the R2 family's part of the store. (stub: to be filled in)
type r2State struct{}

func (st *r2State) init() {}

func (s *Server) routesR2() {}

func (s *Server) serveS3(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "S3 API not implemented yet", http.StatusNotImplemented)
}
