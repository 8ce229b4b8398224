/*!40101 SET NAMES binary*/;
/*!40014 SET FOREIGN_KEY_CHECKS=0*/;
INSERT INTO `customers` VALUES
(1,'Ada Lovelace','ada@example.org','GB','2024-01-02 09:00:00'),
(2,'Jürgen O\'Brien','jurgen@example.org','DE','2024-01-03 10:30:00'),
(3,'Zoë 🚀 Smith',NULL,'NL','2024-02-14 18:45:10'),
(4,'Li Wei 李伟','li@example.org','CN','2024-03-01 00:00:00');
INSERT INTO `customers` (`id`,`name`,`email`,`country`,`created_at`) VALUES
(5,'Back\\slash "quoted"','bs@example.org','US','2024-03-05 12:00:00');
