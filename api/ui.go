package api

import "github.com/gin-gonic/gin"

// uiRoutes serves the results page under /ui/ (see issue 11); the page is
// added in its own change.
func (s *Server) uiRoutes(r *gin.Engine) {}
