/*!40101 SET NAMES binary*/;
INSERT INTO `orders` VALUES
(100,1,19.99,'paid','first order','2024-01-02 09:05:00'),
(101,1,5.00,'shipped',NULL,'2024-01-05 11:00:00'),
(102,2,1234.50,'new','line one\nline two','2024-01-06 08:15:00');
